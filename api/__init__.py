"""RNU's HTTP edge: the FastAPI app factory, REST routers, GraphQL, auth and JSON errors."""
