"""A focused JSON schema of the Adaptive Card 1.5 subset the bot emits, for jsonschema.

Written from the Adaptive Cards schema explorer (https://adaptivecards.io/explorer/) for the
elements we use, because no PyPI package ships the official schema file. Stricter than the
official schema on purpose: unknown properties are errors, so a typo (e.g. `Wrap`) fails here
instead of being silently ignored by Teams.
"""

from __future__ import annotations

from typing import Any

_TEXT_PROPS: dict[str, Any] = {
    "type": {"const": "TextBlock"},
    "text": {"type": "string"},
    "wrap": {"type": "boolean"},
    "size": {"enum": ["Small", "Default", "Medium", "Large", "ExtraLarge"]},
    "weight": {"enum": ["Lighter", "Default", "Bolder"]},
    "color": {"enum": ["Default", "Dark", "Light", "Accent", "Good", "Warning", "Attention"]},
    "isSubtle": {"type": "boolean"},
    "fontType": {"enum": ["Default", "Monospace"]},
    "separator": {"type": "boolean"},
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$ref": "#/$defs/TopCard",
    "$defs": {
        "TopCard": {
            "type": "object",
            "required": ["type", "version", "body"],
            "additionalProperties": False,
            "properties": {
                "type": {"const": "AdaptiveCard"},
                "$schema": {"const": "http://adaptivecards.io/schemas/adaptive-card.json"},
                "version": {"const": "1.5"},
                "msteams": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "width": {"const": "Full"},
                        # https://learn.microsoft.com/en-us/microsoftteams/platform/task-modules-and-cards/cards/cards-format#mention-support-within-adaptive-cards
                        "entities": {"type": "array", "items": {"$ref": "#/$defs/Mention"}},
                    },
                },
                "body": {"type": "array", "items": {"$ref": "#/$defs/Element"}},
                "actions": {"type": "array", "items": {"$ref": "#/$defs/Action"}},
            },
        },
        "Mention": {
            "type": "object",
            "required": ["type", "text", "mentioned"],
            "additionalProperties": False,
            "properties": {
                "type": {"const": "mention"},
                "text": {"type": "string", "pattern": "^<at>[^<>]+</at>$"},
                "mentioned": {
                    "type": "object",
                    "required": ["id", "name"],
                    "additionalProperties": False,
                    "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
                },
            },
        },
        "NestedCard": {
            "type": "object",
            "required": ["type", "body"],
            "additionalProperties": False,
            "properties": {
                "type": {"const": "AdaptiveCard"},
                "body": {"type": "array", "items": {"$ref": "#/$defs/Element"}},
                "actions": {"type": "array", "items": {"$ref": "#/$defs/Action"}},
            },
        },
        "Element": {
            "oneOf": [
                {"$ref": "#/$defs/TextBlock"},
                {"$ref": "#/$defs/FactSet"},
                {"$ref": "#/$defs/Container"},
                {"$ref": "#/$defs/ActionSet"},
                {"$ref": "#/$defs/InputText"},
            ]
        },
        "TextBlock": {
            "type": "object",
            "required": ["type", "text"],
            "additionalProperties": False,
            "properties": _TEXT_PROPS,
        },
        "FactSet": {
            "type": "object",
            "required": ["type", "facts"],
            "additionalProperties": False,
            "properties": {
                "type": {"const": "FactSet"},
                "facts": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["title", "value"],
                        "additionalProperties": False,
                        "properties": {"title": {"type": "string"}, "value": {"type": "string"}},
                    },
                },
            },
        },
        "Container": {
            "type": "object",
            "required": ["type", "items"],
            "additionalProperties": False,
            "properties": {
                "type": {"const": "Container"},
                "separator": {"type": "boolean"},
                "items": {"type": "array", "items": {"$ref": "#/$defs/Element"}},
            },
        },
        "ActionSet": {
            "type": "object",
            "required": ["type", "actions"],
            "additionalProperties": False,
            "properties": {
                "type": {"const": "ActionSet"},
                "actions": {"type": "array", "items": {"$ref": "#/$defs/Action"}},
            },
        },
        "InputText": {
            "type": "object",
            "required": ["type", "id"],
            "additionalProperties": False,
            "properties": {
                "type": {"const": "Input.Text"},
                "id": {"type": "string", "pattern": "^[A-Za-z0-9_]+$"},
                "label": {"type": "string"},
                "isMultiline": {"type": "boolean"},
                "isRequired": {"type": "boolean"},
                "errorMessage": {"type": "string"},
                "maxLength": {"type": "integer", "minimum": 1},
            },
        },
        "Action": {
            "oneOf": [
                {
                    "type": "object",
                    "required": ["type", "title", "data"],
                    "additionalProperties": False,
                    "properties": {
                        "type": {"const": "Action.Submit"},
                        "title": {"type": "string"},
                        "style": {"enum": ["default", "positive", "destructive"]},
                        "data": {"type": "object"},
                    },
                },
                {
                    "type": "object",
                    "required": ["type", "title", "card"],
                    "additionalProperties": False,
                    "properties": {
                        "type": {"const": "Action.ShowCard"},
                        "title": {"type": "string"},
                        "card": {"$ref": "#/$defs/NestedCard"},
                    },
                },
            ]
        },
    },
}
