/**
 * Test doubles of core's ports and builders of its values, for unit tests of core and of the
 * packages built on it. Not part of the public entry (src/index.ts).
 */
export * from './fakes.js';
export * from './builders.js';
export * from './inPlaceWorld.js';
