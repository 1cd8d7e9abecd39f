/** Why dist/bundle/ is not the build of what dist/ and node_modules hold now, or null when it is. */
export declare function bundleStaleness(root: string): string | null;
/** The CLI's module for bin/fpsolve.js: the bundle's cli.cjs (run with loadBundle), dist/src/cli/main.js (imported), or null (neither built). */
export declare function cliEntry(root: string): string | null;
/** A function giving join(root, file) for the manifest's (posix, relative, normalized) input paths. */
export declare function under(root: string): (file: string) => string;
/** The build id (64 hex digits) a bundle script ends with, or null. */
export declare function buildIdOf(source: string): string | null;
/** Runs the bundle script (from its code cache when that is this build's); save() writes the cache when FPSOLVE_CODE_CACHE_WRITE=1. */
export declare function loadBundle(file: string): { exports: Record<string, unknown>; save(): void };
