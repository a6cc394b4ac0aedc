// Starts GraphiQL against this gateway's endpoint. A token may be handed
// over in the URL fragment (#token=...), which never reaches the server: it
// becomes the Authorization header and is then removed from the address bar.
(function () {
  var root = document.getElementById('graphiql');
  var endpoint = root.getAttribute('data-endpoint');
  var headers = '';
  var match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (match) {
    headers = JSON.stringify({ Authorization: 'Bearer ' + decodeURIComponent(match[1]) }, null, 2);
    history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  var fetcher = GraphiQL.createFetcher({ url: new URL(endpoint, window.location.href).toString() });
  var props = { fetcher: fetcher, defaultHeaders: headers || '{\n  "Authorization": "Bearer <paste the token here>"\n}', shouldPersistHeaders: true };
  if (headers) { props.headers = headers; }
  ReactDOM.createRoot(root).render(React.createElement(GraphiQL, props));
})();
