/** Why dist/bundle/ is not the build of what dist/ and node_modules hold now, or null when it is. */
export declare function bundleStaleness(root: string): string | null;
/** The module bin/fpsolve.js imports for the CLI: the bundle's main.js, dist/src/cli/main.js, or null (neither built). */
export declare function cliEntry(root: string): string | null;
/** A function giving join(root, file) for the manifest's (posix, relative, normalized) input paths. */
export declare function under(root: string): (file: string) => string;
