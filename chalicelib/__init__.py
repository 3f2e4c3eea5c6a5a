"""drink-assistant: the logic behind the Chalice routes in app.py."""
