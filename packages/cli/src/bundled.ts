/**
 * Files the CLI normally finds through node_modules and its own package folder (its
 * version, the web app's build), handed over instead by the single executable's entry
 * (sea-main.ts), which carries them inside itself. Unset when run from an install.
 */
export interface BundledFiles {
  /** The CLI's version, taken from package.json when the executable was built. */
  readonly version: string;
  /** Where the executable wrote out apps/web/dist. */
  readonly webRoot: string;
}

let bundled: BundledFiles | undefined;

export function useBundledFiles(files: BundledFiles): void {
  bundled = files;
}

export function bundledFiles(): BundledFiles | undefined {
  return bundled;
}
