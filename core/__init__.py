"""Shared core of eventmart: settings, connections, logging and the event rules."""
