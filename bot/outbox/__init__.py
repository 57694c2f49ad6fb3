"""The outbox: messages queued in the transaction of a change, then paced, sent once and kept."""
