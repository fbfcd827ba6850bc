// /api/docs: Swagger UI (vendored, web/static/vendor/swagger-ui) over the app's OpenAPI document.
document.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // Never ask a third-party service to validate the document (it would also leak it).
    validatorUrl: null,
  });
});
