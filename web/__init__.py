"""RNU's Spanish, server-rendered web pages, mounted into the API app."""
