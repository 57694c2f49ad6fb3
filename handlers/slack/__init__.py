"""Slack: Bolt listeners, Block Kit rendering, the Web API client, sender and directory.

Everything Slack-specific lives here; the core never imports slack_bolt or slack_sdk.
"""
