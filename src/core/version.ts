// The package version, set from package.json by esbuild; unbundled test builds have none.
declare const AIKM_VERSION: string | undefined;
export const VERSION = typeof AIKM_VERSION === 'string' ? AIKM_VERSION : '0.0.0-dev';
