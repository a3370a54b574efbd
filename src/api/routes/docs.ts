import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createRoute, z } from "@hono/zod-openapi";
import { packageRoot } from "../../package-info.js";
import { createRouter } from "../router.js";
import { NARROW_RESPONSES } from "../schemas.js";

/**
 * Swagger UI's files, served from the installed package: no CDN, so it works offline. The
 * build copies them from swagger-ui-dist (scripts/copy-swagger-ui.mjs), which stays a dev dependency.
 */
const uiDir = join(packageRoot, "dist", "swagger-ui");

const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
  "favicon-16x16.png": "image/png",
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>SDCI API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;

// A file rather than an inline script, so a strict Content-Security-Policy can stay on.
const INIT = `window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout",
  validatorUrl: null,
  persistAuthorization: false
});
`;

const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'";

const docsPage = createRoute({
  method: "get",
  path: "/docs",
  operationId: "getDocs",
  tags: ["contract"],
  summary: "Swagger UI for this API",
  description: "An interactive page over /openapi.json; its Authorize button takes the bearer token. No token needed to load it.",
  security: [],
  responses: {
    200: { description: "The page", content: { "text/html": { schema: z.string() } } },
    ...NARROW_RESPONSES.malformedOnly,
  },
});

/** `GET /docs` and the files it loads, all from this server. */
export function docsRoutes() {
  const router = createRouter();
  router.openapi(docsPage, (c) => c.html(PAGE, 200, { "Content-Security-Policy": CSP }) as never);
  // What people type or bookmark for a docs page; the page itself lives at /docs.
  router.get("/docs/", (c) => c.redirect("/docs", 301));
  router.get("/docs/index.html", (c) => c.redirect("/docs", 301));
  router.get("/docs/init.js", (c) => c.body(INIT, 200, { "Content-Type": "text/javascript; charset=utf-8" }));
  router.get("/docs/:file", async (c) => {
    const file = c.req.param("file");
    const type = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
    if (!type) return c.notFound();
    const body = await readFile(join(uiDir, file));
    return c.body(body, 200, { "Content-Type": type, "Cache-Control": "public, max-age=86400" });
  });
  return router;
}
