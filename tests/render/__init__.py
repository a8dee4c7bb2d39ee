"""Render: feeds and mail messages."""
