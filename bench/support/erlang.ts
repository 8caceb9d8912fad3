/**
 * Runs Erlang/OTP peer benchmarks: finds `erl`/`erlc` (override with the ERL and ERLC environment
 * variables), compiles `bench/otp/*.erl` into a temporary directory and runs an entry function
 * with `erl -noshell`. A peer program prints its results as lines `OTP {json}` on stdout; every
 * other line is kept for error messages.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ErlangInfo {
  erl: string;
  erlc: string;
  /** `erlang:system_info(otp_release)`, e.g. "25". */
  release: string;
  /** The full OTP version, e.g. "25.2.3" (falls back to the release). */
  version: string;
  /** e.g. "13.1.5". */
  erts: string;
  schedulers: number;
  /** "jit" or "emu". */
  flavor: string;
}

export type ErlangLookup = { ok: true; info: ErlangInfo } | { ok: false; reason: string };

interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Set when the program could not be started at all (e.g. ENOENT). */
  spawnError?: Error;
  timedOut: boolean;
}

function runProcess(command: string, args: string[], timeoutMs: number): Promise<ProcessResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const finish = (result: Omit<ProcessResult, 'stdout' | 'stderr' | 'timedOut'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, stdout, stderr, timedOut });
    };
    child.on('error', (error) => finish({ code: null, signal: null, spawnError: error }));
    child.on('close', (code, signal) => finish({ code, signal }));
  });
}

function describeFailure(what: string, result: ProcessResult): string {
  if (result.spawnError) {
    const code = (result.spawnError as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `${what}: not found on PATH` : `${what}: ${result.spawnError.message}`;
  }
  if (result.timedOut) return `${what}: timed out`;
  const output = `${result.stderr}\n${result.stdout}`.trim().split('\n').slice(-12).join('\n');
  return `${what}: exited with ${result.code ?? result.signal}${output ? `\n${output}` : ''}`;
}

let lookup: Promise<ErlangLookup> | undefined;

/** Finds a working Erlang/OTP installation (memoised). Never throws. */
export function findErlang(): Promise<ErlangLookup> {
  lookup ??= (async (): Promise<ErlangLookup> => {
    const erl = process.env.ERL ?? 'erl';
    const erlc = process.env.ERLC ?? 'erlc';
    const probe = await runProcess(
      erl,
      [
        '-noshell',
        '-eval',
        [
          'R = erlang:system_info(otp_release),',
          'V = try {ok, B} = file:read_file(filename:join([code:root_dir(), "releases", R, "OTP_VERSION"])),',
          '  string:trim(binary_to_list(B)) catch _:_ -> R end,',
          'io:format("~s ~s ~s ~p ~p~n", [R, V, erlang:system_info(version), erlang:system_info(schedulers_online),',
          '  try erlang:system_info(emu_flavor) catch _:_ -> emu end]),',
          'halt().',
        ].join(' '),
      ],
      30_000,
    );
    if (probe.spawnError || probe.code !== 0) return { ok: false, reason: describeFailure(erl, probe) };
    const fields = probe.stdout.trim().split(/\s+/);
    if (fields.length < 5) return { ok: false, reason: `${erl}: unexpected version output ${JSON.stringify(probe.stdout)}` };
    const [release, version, erts, schedulers, flavor] = fields as [string, string, string, string, string];
    const compiler = await runProcess(erlc, ['-help'], 30_000);
    if (compiler.spawnError) return { ok: false, reason: describeFailure(erlc, compiler) };
    return { ok: true, info: { erl, erlc, release, version, erts, schedulers: Number(schedulers), flavor } };
  })();
  return lookup;
}

/** A directory of compiled modules; `dispose()` deletes it. */
export interface CompiledErlang {
  dir: string;
  dispose(): Promise<void>;
}

/** Compiles `sources` (paths of .erl files) into a fresh temporary directory. */
export async function compileErlang(info: ErlangInfo, sources: string[]): Promise<CompiledErlang> {
  const dir = await mkdtemp(join(tmpdir(), 'overseer-bench-otp-'));
  const dispose = (): Promise<void> => rm(dir, { recursive: true, force: true });
  const result = await runProcess(info.erlc, ['-o', dir, ...sources], 120_000);
  if (result.spawnError || result.code !== 0) {
    await dispose();
    throw new Error(describeFailure(`${info.erlc} ${sources.join(' ')}`, result));
  }
  return { dir, dispose };
}

/** One `OTP {json}` line of a peer program. */
export type OtpRecord = Record<string, unknown> & { type: string };

/**
 * Runs `erl -noshell -pa <dir> -eval '<expression>' -s init stop` and returns the parsed `OTP`
 * lines. Rejects when erl fails, times out or prints an `OTP {"type":"error",...}` line.
 */
export async function runErlang(
  info: ErlangInfo,
  compiled: CompiledErlang,
  expression: string,
  options: { timeoutMs: number; erlFlags?: string[] },
): Promise<OtpRecord[]> {
  const args = ['-noshell', ...(options.erlFlags ?? []), '-pa', compiled.dir, '-eval', expression, '-s', 'init', 'stop'];
  const result = await runProcess(info.erl, args, options.timeoutMs);
  const records: OtpRecord[] = [];
  for (const line of result.stdout.split('\n')) {
    if (!line.startsWith('OTP ')) continue;
    records.push(JSON.parse(line.slice(4)) as OtpRecord);
  }
  const failure = records.find((record) => record.type === 'error');
  if (failure) throw new Error(`erlang peer failed: ${JSON.stringify(failure)}`);
  if (result.spawnError || result.timedOut || result.code !== 0) throw new Error(describeFailure(`${info.erl} -eval ${expression}`, result));
  // `-eval` errors do not change erl's exit code; a crash shows up as missing records plus stderr/stdout text.
  if (records.length === 0) throw new Error(describeFailure(`${info.erl} -eval ${expression} printed no OTP line`, result));
  return records;
}
