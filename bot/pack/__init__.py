"""The board pack: a meeting's report as PDF, xlsx and an accessible HTML view, with charts."""

#: The outbox kind of a pack's post to the board channel (bot/pack/post.py).
PACK_POST = "board_pack"
