"""The movie_r inference service (FastAPI): `create_app(settings)` builds it."""
