"""The features' services: each owns its queries' orchestration, transactions and caches, shared
by the JSON API, the admin UI and the CLI. They never see a Request: the web layer parses, calls
them and shapes what they return."""
