"""The agencies' GraphQL API (Strawberry) at /graphql."""
