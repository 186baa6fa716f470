import { bigintAsJson } from '../../engines/types.js';
import type { Statement } from '../statement.js';
import { isLookup, type LookupPhase, type Phase } from './plan.js';

/** One statement as `order-tracking sql` and the golden files show it. */
export const renderStatement = (s: Statement): string =>
  [
    `${s.sql};`,
    s.params.length > 0 ? `-- params: ${JSON.stringify(s.params, bigintAsJson)}` : '',
    s.counts ? `-- counts: ${s.counts}` : '',
    s.onlyFrom ? `-- only when the statement before changed ${s.onlyFrom} rows or more` : '',
  ]
    .filter(Boolean)
    .join('\n');

/** How a reader of the plan answers a look-up: the value, and why that one, if it is a stand-in. */
export interface Answer {
  readonly value: number | null;
  readonly note?: string;
}

/**
 * A plan as text, phase by phase, in the order it runs; each look-up is shown with the answer
 * `answer` gives it, and the phases that answer plans follow.
 */
export const renderPlan = async (
  phases: readonly Phase[],
  answer: (phase: LookupPhase) => Promise<Answer>,
): Promise<string> => {
  const out: string[] = [];
  const walk = async (list: readonly Phase[]): Promise<void> => {
    for (const phase of list) {
      if (isLookup(phase)) {
        const a = await answer(phase);
        out.push(
          `-- look-up: ${phase.name}\n${renderStatement(phase.lookup)}\n-- answer: ${a.value === null ? 'NULL' : a.value}${a.note ? ` (${a.note})` : ''}`,
        );
        await walk(phase.then(a.value));
      } else if (phase.statements.length > 0) {
        const when = phase.beforeTransaction ? ', committed before the transaction' : '';
        out.push(`-- ${phase.name}${when}`, ...phase.statements.map(renderStatement));
      }
    }
  };
  await walk(phases);
  return `${out.join('\n\n')}\n`;
};
