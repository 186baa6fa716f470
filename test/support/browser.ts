/**
 * A real browser for the dashboard tests: Debian's chromium driven by playwright-core (no browser
 * download). Missing chromium skips those tests on a workstation and fails them in CI.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** In CI a missing browser fails the suite (the launch below throws); elsewhere it is skipped. */
export const skipBrowser = (): boolean => !existsSync(CHROMIUM) && process.env.CI !== 'true';

export const launchBrowser = (): Promise<Browser> => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
};

/** How many pixels of a canvas are painted (alpha > 0): a chart that drew something has many. */
export const paintedPixels = (canvasId: string): string => `(() => {
  const canvas = document.getElementById(${JSON.stringify(canvasId)});
  if (!(canvas instanceof HTMLCanvasElement) || canvas.width === 0 || canvas.height === 0) return 0;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
  return painted;
})()`;
