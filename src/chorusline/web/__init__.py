"""The analyst's web app (``chorusline serve``): pages, REST API, TAXII 2.1, users (docs/WEB.md)."""
