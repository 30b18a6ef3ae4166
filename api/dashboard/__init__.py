"""The built-in dashboard: a static page at `/` drawn in the browser from /stats/*."""
