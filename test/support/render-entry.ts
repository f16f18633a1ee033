/**
 * Bundle entry of the test renderer (test/support/native-render.ts): the render cache's entry for an
 * overrides JSON, made by the very functions the test helpers render with.
 */
import { renderDist } from '../../lib/synth';
import { configWith, parseObjects } from '../helpers';
import { cacheEntry } from './render-cache';

export function renderCacheEntry(key: string): string {
  return cacheEntry([...renderDist(configWith(JSON.parse(key) as Record<string, unknown>))], parseObjects);
}
