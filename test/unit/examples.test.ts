/**
 * The deployment examples (examples/) say what the CLI does: the Airflow DAG runs exactly the
 * pipeline's tasks in the seed DAG's dependency order and skips on 75 (lease held), the CronJobs run
 * `run` and `monitor` on their schedules without overlap, the systemd unit runs `serve` and stops it
 * within its grace, and none of them holds a secret.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));
const read = (path: string): string => readFileSync(join(examples, path), 'utf8');

/** What `order-tracking task <name>` accepts. */
const taskNames = ['check_drift', 'extract', 'mart_uti', 'mart_ecs', 'mart_uts', 'tests', 'monitor'];
const cycleTasks = taskNames.filter((name) => name !== 'monitor');
/** The seed's check_drift >> extract >> mart_uti >> [mart_ecs, mart_uts] >> tests, edge by edge. */
const cycleEdges = [
  ['check_drift', 'extract'],
  ['extract', 'mart_uti'],
  ['mart_ecs', 'tests'],
  ['mart_uti', 'mart_ecs'],
  ['mart_uti', 'mart_uts'],
  ['mart_uts', 'tests'],
];
const secretVariables = [
  'ORDER_TRACKING_WAREHOUSE',
  'ORDER_TRACKING_SOURCE',
  'ORDER_TRACKING_DASHBOARD_TOKEN',
  'ORDER_TRACKING_ALERT_WEBHOOK',
];
/** A URL with a password in it (`scheme://user:password@host`). */
const credentialUrl = /[a-z][a-z0-9+.-]*:\/\/[^\s/'"@]*:[^\s/'"@]+@/i;

// --- Airflow --------------------------------------------------------------------------------------

const dagFile = join(examples, 'airflow/order_tracking_dag.py');
const onCi = ['true', '1'].includes((process.env.CI ?? '').toLowerCase());
const hasPython = spawnSync('python3', ['--version']).status === 0;

/**
 * Runs the DAG file against stand-ins for `airflow` and `pendulum` that record each DAG's settings,
 * its BashOperators and every `>>` / `<<` edge, and prints them as JSON. The file's imports are
 * read from its AST, so an import the stand-ins would hide still shows.
 */
const graphScript = String.raw`
import ast, json, sys, types

path = sys.argv[1]
source = open(path).read()
tree = ast.parse(source, path)
imports = sorted(
    {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    | {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
)

dags, open_dags = [], []


class DAG:
    def __init__(self, dag_id, **kwargs):
        self.dag_id, self.kwargs, self.tasks, self.edges = dag_id, kwargs, [], []
        dags.append(self)

    def __enter__(self):
        open_dags.append(self)
        return self

    def __exit__(self, *exc):
        open_dags.pop()


def as_list(x):
    return list(x) if isinstance(x, (list, tuple, set)) else [x]


class BashOperator:
    def __init__(self, task_id, bash_command, dag=None, **kwargs):
        self.dag = dag or (open_dags[-1] if open_dags else None)
        if self.dag is None:
            raise RuntimeError("task %s is in no DAG" % task_id)
        self.task_id, self.bash_command = task_id, bash_command
        self.kwargs = {**self.dag.kwargs.get("default_args", {}), **kwargs}
        self.dag.tasks.append(self)

    def set_downstream(self, other):
        for t in as_list(other):
            self.dag.edges.append([self.task_id, t.task_id])

    def set_upstream(self, other):
        for t in as_list(other):
            t.set_downstream(self)

    def __rshift__(self, other):
        self.set_downstream(other)
        return other

    def __lshift__(self, other):
        self.set_upstream(other)
        return other

    def __rrshift__(self, other):
        self.set_upstream(other)
        return self

    def __rlshift__(self, other):
        self.set_downstream(other)
        return self


def stub(name, **attrs):
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module


stub("airflow", DAG=DAG)
stub("airflow.operators")
stub("airflow.operators.bash", BashOperator=BashOperator)
stub("pendulum", datetime=lambda *a, **k: {"tz": k.get("tz")})

exec(compile(source, path, "exec"), {"__name__": "order_tracking_dag"})


def skip_codes(task):
    codes = task.kwargs.get("skip_on_exit_code", 99)  # BashOperator's default
    return [] if codes is None else sorted(as_list(codes))


json.dump(
    {
        "imports": imports,
        "dags": [
            {
                "dag_id": d.dag_id,
                "schedule": d.kwargs.get("schedule", d.kwargs.get("schedule_interval")),
                "catchup": d.kwargs.get("catchup"),
                "max_active_runs": d.kwargs.get("max_active_runs"),
                "start_date": d.kwargs.get("start_date"),
                "tasks": [
                    {
                        "task_id": t.task_id,
                        "bash_command": t.bash_command,
                        "skip_on_exit_code": skip_codes(t),
                        "env": t.kwargs.get("env"),
                        "append_env": t.kwargs.get("append_env", False),
                    }
                    for t in d.tasks
                ],
                "edges": sorted(d.edges),
            }
            for d in dags
        ],
    },
    sys.stdout,
)
`;

interface DagTask {
  task_id: string;
  bash_command: string;
  skip_on_exit_code: number[];
  env: Record<string, string> | null;
  append_env: boolean;
}
interface Dag {
  dag_id: string;
  schedule: string;
  catchup: boolean;
  max_active_runs: number;
  start_date: { tz: string } | null;
  tasks: DagTask[];
  edges: [string, string][];
}

const python = (args: readonly string[], env: NodeJS.ProcessEnv = process.env): string => {
  const result = spawnSync('python3', args, { encoding: 'utf8', env });
  if (result.error)
    throw new Error(`python3 could not run (it is required when CI is set): ${result.error.message}`);
  if (result.status !== 0) throw new Error(`python3 exited ${result.status}: ${result.stderr}`);
  return result.stdout;
};

const graphs = new Map<string | undefined, { imports: string[]; dags: Dag[] }>();
const dagGraph = (bin: string | undefined): { imports: string[]; dags: Dag[] } => {
  const known = graphs.get(bin);
  if (known) return known;
  const env = { ...process.env };
  delete env.ORDER_TRACKING_BIN;
  if (bin !== undefined) env.ORDER_TRACKING_BIN = bin;
  const graph = JSON.parse(python(['-c', graphScript, dagFile], env)) as { imports: string[]; dags: Dag[] };
  graphs.set(bin, graph);
  return graph;
};

/** `<bin> task <name>` → name. */
const taskOf = (command: string): string | undefined => /(?:^|\s)task\s+(\S+)\s*$/.exec(command)?.[1];

// Skipped where python3 is missing, except on CI, where its absence fails the suite.
describe.runIf(hasPython || onCi)('examples/airflow/order_tracking_dag.py', () => {
  it('is valid Python', () => {
    python(['-c', 'import ast,sys; ast.parse(open(sys.argv[1]).read())', dagFile]);
  });

  it('imports the Airflow 2 BashOperator and DAG', () => {
    const { imports } = dagGraph(undefined);
    expect(imports).toContain('airflow.operators.bash');
    expect(imports).toContain('airflow');
  });

  it('runs the cycle every 15 minutes and monitor at 02:00 UTC, one run at a time, no catch-up', () => {
    const { dags } = dagGraph(undefined);
    expect(dags.map((d) => [d.schedule, d.catchup, d.max_active_runs, d.start_date?.tz])).toEqual([
      ['*/15 * * * *', false, 1, 'UTC'],
      ['0 2 * * *', false, 1, 'UTC'],
    ]);
    expect(new Set(dags.map((d) => d.dag_id)).size).toBe(2);
  });

  it('calls exactly the cycle tasks in the seed order, and monitor alone', () => {
    const [cycle, monitor] = dagGraph(undefined).dags;
    expect(cycle!.tasks.map((t) => t.task_id).sort()).toEqual([...cycleTasks].sort());
    expect(cycle!.edges).toEqual(cycleEdges);
    expect(monitor!.tasks.map((t) => t.task_id)).toEqual(['monitor']);
    expect(monitor!.edges).toEqual([]);
  });

  it('runs `<bin> task <task_id>` with a valid task name, the binary taken from ORDER_TRACKING_BIN', () => {
    const byDefault = dagGraph(undefined).dags.flatMap((d) => d.tasks);
    const configured = dagGraph('/opt/order-tracking/bin/order-tracking').dags.flatMap((d) => d.tasks);
    expect(byDefault.length).toBe(taskNames.length);
    for (const task of byDefault) {
      expect(taskNames).toContain(taskOf(task.bash_command));
      expect(taskOf(task.bash_command)).toBe(task.task_id);
      expect(task.bash_command).toMatch(/(^|\s)order-tracking\s+task\s/);
    }
    expect(configured.map((t) => t.bash_command)).toEqual(
      byDefault.map((t) => `/opt/order-tracking/bin/order-tracking task ${t.task_id}`),
    );
  });

  it('skips a task on exit 75 (lease held), and only on 75', () => {
    for (const task of dagGraph(undefined).dags.flatMap((d) => d.tasks))
      expect([task.task_id, task.skip_on_exit_code]).toEqual([task.task_id, [75]]);
  });

  it('takes the URLs from Airflow connections and the rest from the worker, with no secret inline', () => {
    for (const task of dagGraph(undefined).dags.flatMap((d) => d.tasks)) {
      expect(task.append_env).toBe(true);
      for (const value of Object.values(task.env ?? {})) expect(value).toMatch(/^\{\{\s*(conn|var)\.\S+/);
      expect(Object.keys(task.env ?? {}).sort()).toEqual([
        'ORDER_TRACKING_SOURCE',
        'ORDER_TRACKING_WAREHOUSE',
      ]);
    }
    expect(read('airflow/order_tracking_dag.py')).not.toMatch(credentialUrl);
  });
});

// --- Kubernetes -----------------------------------------------------------------------------------

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: unknown };
}
interface Container {
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: unknown[];
}
interface CronJob {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    schedule: string;
    timeZone?: string;
    concurrencyPolicy?: string;
    startingDeadlineSeconds?: number;
    jobTemplate: {
      spec: {
        backoffLimit?: number;
        template: {
          spec: {
            restartPolicy: string;
            terminationGracePeriodSeconds?: number;
            containers: Container[];
            initContainers?: Container[];
          };
        };
      };
    };
  };
}

const cronJobs = (): CronJob[] => {
  const documents = parseAllDocuments(read('kubernetes/cronjob.yaml'));
  if (!Array.isArray(documents)) throw new Error('cronjob.yaml holds no document');
  for (const document of documents) expect(document.errors).toEqual([]);
  return documents.map((document) => document.toJS() as CronJob);
};
const podOf = (job: CronJob) => job.spec.jobTemplate.spec.template.spec;
const containersOf = (job: CronJob): Container[] => [
  ...(podOf(job).initContainers ?? []),
  ...podOf(job).containers,
];
/** The word after the `order-tracking` binary in the container's argv. */
const subcommandOf = (container: Container): string | undefined => {
  const argv = [...(container.command ?? []), ...(container.args ?? [])];
  const bin = argv.findIndex((word) => /(^|\/)order-tracking(\.mjs)?$/.test(word));
  return bin < 0 ? undefined : argv[bin + 1];
};

describe('examples/kubernetes/cronjob.yaml', () => {
  it('holds two CronJobs: `run` every 15 minutes and `monitor` at 02:00 UTC', () => {
    const jobs = cronJobs();
    expect(jobs.map((j) => [j.apiVersion, j.kind])).toEqual([
      ['batch/v1', 'CronJob'],
      ['batch/v1', 'CronJob'],
    ]);
    expect(
      jobs.map((j) => [
        j.spec.schedule,
        j.spec.timeZone,
        j.spec.jobTemplate.spec.template.spec.containers.map(subcommandOf),
      ]),
    ).toEqual([
      ['*/15 * * * *', 'Etc/UTC', ['run']],
      ['0 2 * * *', 'Etc/UTC', ['monitor']],
    ]);
    expect(new Set(jobs.map((j) => j.metadata.name)).size).toBe(2);
  });

  it('never overlaps, never retries, skips late slots and gives SIGTERM time to release the lease', () => {
    for (const job of cronJobs()) {
      expect(job.spec.concurrencyPolicy).toBe('Forbid');
      expect(job.spec.startingDeadlineSeconds).toBeGreaterThan(0);
      expect(job.spec.jobTemplate.spec.backoffLimit).toBe(0);
      expect(podOf(job).restartPolicy).toBe('Never');
      expect(podOf(job).terminationGracePeriodSeconds).toBe(30);
    }
  });

  it('reads the URLs from a Secret through secretKeyRef and holds no literal secret', () => {
    expect(read('kubernetes/cronjob.yaml')).not.toMatch(credentialUrl);
    for (const job of cronJobs()) {
      for (const container of containersOf(job)) {
        expect(container.envFrom ?? []).toEqual([]);
        const env = container.env ?? [];
        for (const name of ['ORDER_TRACKING_WAREHOUSE', 'ORDER_TRACKING_SOURCE'])
          expect(env.find((v) => v.name === name)?.valueFrom?.secretKeyRef?.key).toBeTruthy();
        for (const variable of env) {
          if (secretVariables.includes(variable.name)) {
            expect(variable.value).toBeUndefined();
            expect(variable.valueFrom?.secretKeyRef).toBeDefined();
          }
          if (variable.value !== undefined) expect(variable.value).not.toMatch(credentialUrl);
        }
      }
    }
  });
});

// --- systemd --------------------------------------------------------------------------------------

type UnitFile = Map<string, Map<string, string[]>>;

/** systemd's INI dialect, as far as a unit needs: sections, `key=value` (repeatable), comments, `\` continuations. */
const parseUnit = (text: string): UnitFile => {
  const unit: UnitFile = new Map();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.replace(/\\\n/g, ' ').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = unit.get(header[1]!) ?? new Map<string, string[]>();
      unit.set(header[1]!, section);
      continue;
    }
    const equals = line.indexOf('=');
    if (equals <= 0 || section === undefined) throw new Error(`not a section, comment or key=value: ${line}`);
    const key = line.slice(0, equals).trim();
    section.set(key, [...(section.get(key) ?? []), line.slice(equals + 1).trim()]);
  }
  return unit;
};

/** A systemd time span (`30`, `30s`, `1min 30s`, `2m`) in seconds. */
const spanSeconds = (span: string): number => {
  if (/^\d+$/.test(span)) return Number(span);
  const units: Record<string, number> = { ms: 0.001, s: 1, sec: 1, m: 60, min: 60, h: 3600, hr: 3600 };
  let seconds = 0;
  const rest = span.replace(/(\d+(?:\.\d+)?)\s*(ms|sec|s|min|m|hr|h)\b\s*/g, (_, n: string, unit: string) => {
    seconds += Number(n) * units[unit]!;
    return '';
  });
  if (rest.trim() !== '') throw new Error(`not a time span: ${span}`);
  return seconds;
};

describe('examples/systemd/order-tracking.service', () => {
  const unit = parseUnit(read('systemd/order-tracking.service'));
  const service = unit.get('Service') ?? new Map<string, string[]>();
  const last = (key: string): string | undefined => service.get(key)?.at(-1);
  const yes = /^(yes|true|on|1)$/;

  it('has [Unit], [Service] and [Install], and is wanted by multi-user.target', () => {
    expect([...unit.keys()].sort()).toEqual(['Install', 'Service', 'Unit']);
    expect(unit.get('Install')?.get('WantedBy')).toEqual(['multi-user.target']);
  });

  it('runs `order-tracking serve` from the state directory as a dedicated user', () => {
    const argv = (last('ExecStart') ?? '').replace(/^[-@:+!]+/, '').split(/\s+/);
    expect(argv[0]).toMatch(/^\/.*order-tracking(\.mjs)?$/);
    expect(argv.slice(1)).toEqual(['serve']);
    expect(last('WorkingDirectory')).toBe('/var/lib/order-tracking');
    expect(last('User')).toBeTruthy();
    expect(last('User')).not.toMatch(/^(root|0)$/);
  });

  it('stops with SIGTERM and waits at least 25 s (the CLI releases the lease within 20 s)', () => {
    expect(last('KillSignal')).toBe('SIGTERM');
    expect(spanSeconds(last('TimeoutStopSec') ?? '0')).toBeGreaterThanOrEqual(25);
    expect(last('Restart')).toBe('on-failure');
  });

  it('is hardened and writes only its state directory', () => {
    expect(last('NoNewPrivileges')).toMatch(yes);
    expect(last('ProtectSystem')).toBe('strict');
    expect((service.get('ReadWritePaths') ?? []).join(' ').split(/\s+/)).toContain('/var/lib/order-tracking');
  });

  it('takes its secrets from /etc/order-tracking/env, never from the unit', () => {
    expect(service.get('EnvironmentFile')).toEqual(['/etc/order-tracking/env']);
    for (const assignment of service.get('Environment') ?? [])
      for (const name of secretVariables) expect(assignment).not.toContain(`${name}=`);
    expect(read('systemd/order-tracking.service')).not.toMatch(credentialUrl);
  });
});

// --- README ---------------------------------------------------------------------------------------

describe('examples/README.md', () => {
  it('lists every example file and the exit codes of `run` and `task`', () => {
    const readme = read('README.md');
    for (const file of [
      'airflow/order_tracking_dag.py',
      'kubernetes/cronjob.yaml',
      'systemd/order-tracking.service',
    ])
      expect(readme).toContain(file);
    const codes = [...readme.matchAll(/^\|\s*(\d+)\s*\|/gm)].map((m) => Number(m[1]));
    expect(codes).toEqual([0, 1, 2, 3, 4, 75, 124, 130, 143]);
  });
});
