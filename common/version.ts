// The version of sidestash (package.json's; common/version.test.ts keeps them equal).
export const SIDESTASH_VERSION = '0.1.0';
