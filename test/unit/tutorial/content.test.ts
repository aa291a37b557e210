import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTENT_DIR, LANGS, langFromLocale, loadCommon, loadScenario } from '../../../lab/tutorial/content.js';
import { HINT_KEYS } from '../../../lab/tutorial/diagnose.js';
import { runForListing } from '../../../lab/tutorial/runner.js';
import { SCENARIOS } from '../../../lab/scenarios/index.js';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('tutorial content: one definition of the steps, texts per language', () => {
  for (const lang of LANGS) {
    it(`${lang}: every step of every scenario has a title and an explanation, and no text names a step that does not exist`, () => {
      for (const [name, def] of Object.entries(SCENARIOS)) {
        const ids = def.make(runForListing()).steps.map((s) => s.id);
        const texts = loadScenario(lang, name);
        expect(Object.keys(texts.steps).sort(), `${lang}/${name}.yaml`).toEqual([...ids].sort());
        for (const id of ids) expect(texts.steps[id]!.explain.trim().length, `${lang}/${name}.yaml steps.${id}.explain`).toBeGreaterThan(40);
      }
    });

    it(`${lang}: a hint text for every diagnosis`, () => {
      const common = loadCommon(lang);
      for (const k of HINT_KEYS) expect(common.hints[k], `${lang}/common.yaml hints.${k}`).toBeTruthy();
    });
  }

  it('ko and en have the same keys and the same {placeholders} in every text', () => {
    const en = loadCommon('en');
    const ko = loadCommon('ko');
    for (const part of ['ui', 'hints'] as const) {
      expect(Object.keys(ko[part]).sort()).toEqual(Object.keys(en[part]).sort());
      for (const [k, v] of Object.entries(en[part])) expect(placeholders(ko[part][k]!), `${part}.${k}`).toEqual(placeholders(v));
    }
    for (const part of ['flags', 'cluster', 'route'] as const) {
      expect(Object.keys(ko.log[part]).sort()).toEqual(Object.keys(en.log[part]).sort());
      for (const [k, v] of Object.entries(en.log[part])) expect(placeholders(ko.log[part][k]!), `log.${part}.${k}`).toEqual(placeholders(v));
    }
  });

  it('the Korean texts are Korean, with the walkthrough\'s terms', () => {
    const all = readdirSync(join(CONTENT_DIR, 'ko')).map((f) => readFileSync(join(CONTENT_DIR, 'ko', f), 'utf8')).join('\n');
    for (const term of ['subset', 'VirtualService', 'DestinationRule', '다크 런치', '트래픽 미러링', 'fire and forget', '헤더', '명세', 'REGISTRY_ONLY']) expect(all).toContain(term);
    expect(loadScenario('ko', '5.2').steps['7']!.explain).toMatch(/[가-힣]/);
  });

  it('a broken content file is an error naming the file and the field', () => {
    expect(() => loadScenario('en', '9.9')).toThrow(/en\/9\.9\.yaml: missing/);
  });

  it('the language comes from the locale, as POSIX orders it', () => {
    expect(langFromLocale({ LANG: 'ko_KR.UTF-8' })).toBe('ko');
    expect(langFromLocale({ LC_ALL: 'en_US.UTF-8', LANG: 'ko_KR.UTF-8' })).toBe('en');
    expect(langFromLocale({ LC_MESSAGES: 'ko', LANG: 'C' })).toBe('ko');
    expect(langFromLocale({})).toBe('en');
    expect(langFromLocale({ LANG: 'kok_IN' })).toBe('en');
  });
});
