// A build starts from an empty dist/ so a module whose source was removed or renamed
// cannot linger there and ride along into the npm tarball.
import { rmSync } from "node:fs";

rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });
