"""The board pack: a meeting's report as PDF, xlsx and an accessible HTML view, with charts."""
