"""Developer tools that never ship in the Lambda (`chalice package` takes app.py and chalicelib/ only)."""
