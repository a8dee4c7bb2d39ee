"""The web app on a real socket, and in Chromium."""
