// Starts GraphiQL against this gateway's endpoint.
//
// A token may be handed over in the URL fragment (#token=...), which never
// reaches the server: it becomes the Authorization header (persisted by
// GraphiQL in localStorage) and is removed from the address bar.
//
// GraphiQL asks for the schema before its headers editor exists (and its
// start-up rewrites the persisted headers with that empty editor), so that
// first request would go out without the token. The headers known at page
// load are therefore kept here and sent whenever the editor supplies none.
(function () {
  var root = document.getElementById('graphiql');
  var endpoint = new URL(root.getAttribute('data-endpoint'), window.location.href).toString();
  var storageKey = 'graphiql:headers';
  var handedOver = null;
  var match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (match) {
    handedOver = JSON.stringify({ Authorization: 'Bearer ' + decodeURIComponent(match[1]) }, null, 2);
    try { window.localStorage.setItem(storageKey, handedOver); } catch (e) { /* storage disabled */ }
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  // GraphiQL keeps each tab's headers in its tab state; fall back to the
  // plain headers key of older versions.
  function persistedHeaders() {
    try {
      var state = JSON.parse(window.localStorage.getItem('graphiql:tabState') || 'null');
      var tab = state && state.tabs && state.tabs[state.activeTabIndex || 0];
      var text = (tab && tab.headers) || window.localStorage.getItem(storageKey) || '{}';
      var parsed = JSON.parse(text);
      return parsed && typeof parsed === 'object' ? parsed : {};
    } catch (e) {
      return {};
    }
  }
  var initialHeaders = handedOver ? JSON.parse(handedOver) : persistedHeaders();
  var base = GraphiQL.createFetcher({ url: endpoint });
  function fetcher(params, options) {
    var opts = options || {};
    var fromEditor = opts.headers && Object.keys(opts.headers).length > 0;
    return base(params, Object.assign({}, opts, { headers: fromEditor ? opts.headers : initialHeaders }));
  }
  var props = {
    fetcher: fetcher,
    shouldPersistHeaders: true,
    defaultHeaders: '{\n  "Authorization": "Bearer <paste the token here>"\n}'
  };
  if (handedOver) { props.headers = handedOver; }
  ReactDOM.createRoot(root).render(React.createElement(GraphiQL, props));
})();
