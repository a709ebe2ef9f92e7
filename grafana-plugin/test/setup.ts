/**
 * jsdom lacks a few browser APIs Grafana's UI components call at render time; these are the same gaps create-plugin's
 * jest-setup fills. They only make rendering possible: no test asserts on them.
 */
import '@testing-library/jest-dom';
import { TextDecoder, TextEncoder } from 'node:util';

Object.assign(globalThis, { TextEncoder, TextDecoder });

// Files that run in the node environment (`@jest-environment node`: PromQL checks) have no DOM to patch.
if (typeof window !== 'undefined') {
  if (!window.matchMedia) {
    Object.defineProperty(window, 'matchMedia', {
      writable: true,
      value: (query: string) => ({
        matches: false,
        media: query,
        onchange: null,
        addListener: () => undefined,
        removeListener: () => undefined,
        addEventListener: () => undefined,
        removeEventListener: () => undefined,
        dispatchEvent: () => false,
      }),
    });
  }

  class NoopResizeObserver {
    observe(): void {}
    unobserve(): void {}
    disconnect(): void {}
  }
  class NoopIntersectionObserver extends NoopResizeObserver {
    readonly root = null;
    readonly rootMargin = '';
    readonly thresholds = [];
    takeRecords(): [] {
      return [];
    }
  }
  if (!('ResizeObserver' in window)) Object.assign(window, { ResizeObserver: NoopResizeObserver });
  if (!('IntersectionObserver' in window)) Object.assign(window, { IntersectionObserver: NoopIntersectionObserver });
  Object.assign(globalThis, {
    ResizeObserver: window.ResizeObserver,
    IntersectionObserver: window.IntersectionObserver,
  });

  HTMLCanvasElement.prototype.getContext = (() => null) as unknown as HTMLCanvasElement['getContext'];
}
