"""Microsoft Teams: the /api/messages endpoint, activities, Adaptive Cards, sender and directory."""
