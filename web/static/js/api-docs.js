// /api/docs: Swagger UI (vendored, web/static/vendor/swagger-ui) over the app's OpenAPI document.
document.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    // Deep links put an <a href> inside each operation's toggle button (axe:
    // nested-interactive); without them the toggle is one control a keyboard reaches once.
    deepLinking: false,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // Never ask a third-party service to validate the document (it would also leak it).
    validatorUrl: null,
  });
});
