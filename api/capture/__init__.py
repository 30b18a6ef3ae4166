"""Capture routes: the wire protocols of the Segment, RudderStack and PostHog SDKs (docs/sdks.md).

Each message becomes one native event and goes through the same rules (`core.events`), queue
and raw writer as POST /events (`api.accept`).
"""
