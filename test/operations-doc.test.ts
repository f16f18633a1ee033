import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './helpers';

/**
 * docs/operations.md links every procedure step to the test that exercises it: each named test file
 * exists, and each quoted test title after it is a test (or describe) in that file.
 */

interface Reference {
  readonly file: string;
  readonly titles: string[];
}

export function operationsReferences(markdown: string): Reference[] {
  const text = markdown.replace(/\s+/g, ' ');
  const parts = text.split(/`(test\/[^`\s]+\.(?:ts|py))`/);
  const references: Reference[] = [];
  for (let index = 1; index < parts.length; index += 2) {
    // Titles follow the file until the next sentence or file: `file` "title" and "title".
    const tail = parts[index + 1].split(/[;.(]\s|`/)[0];
    references.push({ file: parts[index], titles: [...tail.matchAll(/"([^"]+)"/g)].map((match) => match[1]) });
  }
  return references;
}

function missingTitles(reference: Reference): string[] {
  const source = readFileSync(path.join(ROOT, reference.file), 'utf8').replace(/\\'/g, "'").replace(/\s+/g, ' ');
  return reference.titles.filter((title) => {
    if (reference.file.endsWith('.py')) return !source.includes(`def test_${title.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`);
    return !source.includes(title);
  });
}

describe('docs/operations.md test references', () => {
  const references = operationsReferences(readFileSync(path.join(ROOT, 'docs/operations.md'), 'utf8'));

  test('every procedure names tests, and every named file and title exists', () => {
    expect(references.length).toBeGreaterThan(10);
    expect(references.filter((reference) => reference.titles.length > 0).length).toBeGreaterThanOrEqual(8);
    for (const reference of references) {
      expect(existsSync(path.join(ROOT, reference.file))).toBe(true);
      expect({ file: reference.file, missing: missingTitles(reference) }).toEqual({ file: reference.file, missing: [] });
    }
  });

  test('a reference to a title that does not exist is caught', () => {
    const [planted] = operationsReferences('Test: `test/postgres-upgrade.test.ts` "minor upgrade" and "no such test".');
    expect(planted.titles).toEqual(['minor upgrade', 'no such test']);
    expect(missingTitles(planted)).toEqual(['no such test']);
    const [python] = operationsReferences('`test/integration/test_platform.py` "valkey failover keeps messages flowing" and "nothing like this".');
    expect(missingTitles(python)).toEqual(['nothing like this']);
  });
});
