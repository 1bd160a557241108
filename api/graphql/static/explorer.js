// RNU's GraphiQL: queries go to /graphql with the agency's key and declared purpose, which
// the user types into the headers tab (nothing is stored by RNU).
(function () {
  "use strict";
  var fetcher = GraphiQL.createFetcher({ url: "/graphql" });
  var headers = JSON.stringify(
    { Authorization: "Bearer rnu_xxxxxxxx.<clave>", "X-Purpose": "verificacion" },
    null,
    2
  );
  var query =
    "# Cobertura de un lote de DNI: ver docs/graphql.md para más ejemplos.\n" +
    "query Cobertura($dnis: [String!]!) {\n" +
    "  persons(documents: $dnis, first: 100) {\n" +
    "    totalCount\n" +
    "    edges { node { document valid person { ref programs } } }\n" +
    "  }\n" +
    "}\n";
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: query,
      defaultHeaders: headers,
      defaultEditorToolsVisibility: "headers",
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    })
  );
})();
