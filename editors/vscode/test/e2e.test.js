// End-to-end: VS Code's own DAP test client (DebugClient) drives the built
// `pyreplay dap` over stdio on fixtures/dap/basic.py.
//   PYREPLAY_BIN=bin/pyreplay PYREPLAY_PYTHON=python3.11 node --test e2e.test.js
'use strict';
const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { DebugClient } = require('@vscode/debugadapter-testsupport');

const root = path.resolve(__dirname, '..', '..', '..');
const BIN = process.env.PYREPLAY_BIN || path.join(root, 'bin', 'pyreplay');
const PYTHON = process.env.PYREPLAY_PYTHON || 'python3';

function workspace() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pyreplay-vscode-'));
  const prog = path.join(dir, 'basic.py');
  fs.copyFileSync(path.join(root, 'fixtures', 'dap', 'basic.py'), prog);
  return { dir, prog, db: path.join(dir, 'rec.db') };
}

async function withClient(fn) {
  const dc = new DebugClient(BIN, 'dap', 'pyreplay');
  dc.defaultTimeout = 20000;
  await dc.start();
  try {
    await fn(dc);
  } finally {
    await dc.stop();
  }
}

async function topFrame(dc) {
  const st = await dc.stackTraceRequest({ threadId: 1 });
  return st.body.stackFrames[0];
}

async function locals(dc, frameId) {
  const sc = await dc.scopesRequest({ frameId });
  const vars = await dc.variablesRequest({ variablesReference: sc.body.scopes[0].variablesReference });
  const out = {};
  for (const v of vars.body.variables) out[v.name] = v;
  return out;
}

// request + the stopped event it causes (listening before sending)
async function stepAndStop(dc, send, reason) {
  const stopped = dc.waitForEvent('stopped');
  await send();
  const ev = await stopped;
  if (reason) assert.equal(ev.body.reason, reason);
  return topFrame(dc);
}

test('launch, breakpoint, variables, stepBack, reverseContinue, exit code', async () => {
  const ws = workspace();
  await withClient(async (dc) => {
    // (history by stops: line history, the default, has its own test below)
    const args = { program: ws.prog, python: PYTHON, db: ws.db, cwd: ws.dir, timeTravel: false };
    await dc.hitBreakpoint(args, { path: ws.prog, line: 20 });

    let frame = await topFrame(dc);
    assert.equal(frame.name, 'main');
    let vars = await locals(dc, frame.id);
    assert.equal(vars.acc.value, '0');
    assert.equal(vars.i.value, '0');
    assert.equal(vars.nums.indexedVariables, 250);
    const data = await dc.variablesRequest({ variablesReference: vars.data.variablesReference });
    assert.ok(data.body.variables.some((v) => v.name === "'name'" && v.value === "'pyreplay'"));

    // the second hit, live
    frame = await stepAndStop(dc, () => dc.continueRequest({ threadId: 1 }), 'breakpoint');
    assert.equal(frame.line, 20);
    assert.equal((await locals(dc, frame.id)).i.value, '1');
    // step over into line 21, live
    frame = await stepAndStop(dc, () => dc.nextRequest({ threadId: 1 }), 'step');
    assert.equal(frame.line, 21);
    assert.equal((await locals(dc, frame.id)).acc.value, '1');

    // back in time: the second hit, then the first
    frame = await stepAndStop(dc, () => dc.stepBackRequest({ threadId: 1 }), 'step');
    assert.equal(frame.line, 20);
    assert.equal((await locals(dc, frame.id)).acc.value, '0');
    frame = await stepAndStop(dc, () => dc.reverseContinueRequest({ threadId: 1 }), 'breakpoint');
    assert.equal(frame.line, 20);
    assert.equal((await locals(dc, frame.id)).i.value, '0');
    const ev = await dc.evaluateRequest({ expression: 'i', frameId: frame.id, context: 'hover' });
    assert.equal(ev.body.result, '0');

    // forward again through history, then live to the end
    await dc.setBreakpointsRequest({ source: { path: ws.prog }, breakpoints: [] });
    const exited = dc.waitForEvent('exited');
    const terminated = dc.waitForEvent('terminated');
    await dc.continueRequest({ threadId: 1 });
    assert.equal((await exited).body.exitCode, 3);
    await terminated;
  });
});

test('replay a recording and resume from a past snapshot', async () => {
  const ws = workspace();
  await withClient(async (dc) => {
    // record live first (two stops), then replay that recording
    // (timeTravel false: no anchors in the recording, only the two stops)
    await dc.hitBreakpoint({ program: ws.prog, python: PYTHON, db: ws.db, cwd: ws.dir, timeTravel: false }, { path: ws.prog, line: 20 });
    await stepAndStop(dc, () => dc.continueRequest({ threadId: 1 }), 'breakpoint');
  }); // stop() disconnects: the program is ended
  await withClient(async (dc) => {
    const stopped = dc.waitForEvent('stopped');
    await Promise.all([
      dc.launch({ recording: ws.db }),
      dc.configurationSequence(),
    ]);
    assert.equal((await stopped).body.reason, 'entry');
    let frame = await topFrame(dc);
    assert.equal((await locals(dc, frame.id)).i.value, '0');
    frame = await stepAndStop(dc, () => dc.nextRequest({ threadId: 1 }), 'step');
    assert.equal((await locals(dc, frame.id)).i.value, '1');
    frame = await stepAndStop(dc, () => dc.stepBackRequest({ threadId: 1 }), 'step');
    // Resume from here: a fresh process from snap-1
    const resumed = dc.waitForEvent('stopped');
    const r = await dc.customRequest('pyreplayResume', {});
    assert.equal(r.body.snapshot, 'snap-1');
    await resumed;
    frame = await topFrame(dc);
    assert.equal(frame.line, 20);
    assert.equal((await locals(dc, frame.id)).i.value, '0');
    const exited = dc.waitForEvent('exited');
    await dc.continueRequest({ threadId: 1 });
    assert.equal((await exited).body.exitCode, 3);
  });
});

test('stepOut to the calling line, setVariable, Locals after a side effect', async () => {
  const ws = workspace();
  await withClient(async (dc) => {
    await dc.hitBreakpoint({ program: ws.prog, python: PYTHON, db: ws.db, cwd: ws.dir }, { path: ws.prog, line: 20 });
    let frame = await stepAndStop(dc, () => dc.stepInRequest({ threadId: 1 }), 'step');
    assert.equal(frame.name, 'add');
    // as debugpy: back on the calling line, the result not yet assigned
    frame = await stepAndStop(dc, () => dc.stepOutRequest({ threadId: 1 }), 'step');
    assert.equal(frame.name, 'main');
    assert.equal(frame.line, 20);
    assert.equal((await locals(dc, frame.id)).acc.value, '0');

    // a Debug Console call with a side effect: Locals are fetched again
    const invalidated = dc.waitForEvent('invalidated');
    const r = await dc.evaluateRequest({ expression: 'nums.append(7)', frameId: frame.id, context: 'repl' });
    assert.equal(r.body.result, '');
    await invalidated;
    assert.equal((await locals(dc, frame.id)).nums.indexedVariables, 251);

    // Set Value on a local (once the call's result is assigned): the
    // program runs on with it
    frame = await stepAndStop(dc, () => dc.nextRequest({ threadId: 1 }), 'step');
    assert.equal(frame.line, 21);
    const sc = await dc.scopesRequest({ frameId: frame.id });
    const sv = await dc.setVariableRequest({ variablesReference: sc.body.scopes[0].variablesReference, name: 'acc', value: '100' });
    assert.equal(sv.body.value, '100');
    assert.equal((await locals(dc, frame.id)).acc.value, '100');
    await dc.setBreakpointsRequest({ source: { path: ws.prog }, breakpoints: [] });
    const exited = dc.waitForEvent('exited');
    await dc.continueRequest({ threadId: 1 });
    // acc ends at 110, not 10: exit 0, not 3
    assert.equal((await exited).body.exitCode, 0);
  });
});

test('lineHistory: step back by line from an uncaught exception, reverse continue into a returned function', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pyreplay-vscode-'));
  const prog = path.join(dir, 'parse_fail.py');
  fs.copyFileSync(path.join(root, 'fixtures', 'dap', 'parse_fail.py'), prog);
  await withClient(async (dc) => {
    const stopped = dc.waitForEvent('stopped');
    const initialized = dc.waitForEvent('initialized');
    await dc.initializeRequest();
    await dc.launchRequest({ program: prog, python: PYTHON, db: path.join(dir, 'rec.db'), cwd: dir, lineHistory: true });
    await initialized;
    await dc.setExceptionBreakpointsRequest({ filters: ['uncaught'] });
    await dc.configurationDoneRequest();
    assert.equal((await stopped).body.reason, 'exception');
    // four steps back: the previous line events of parse, with their locals
    const want = [[12, "'c=x '"], [11, "' b=2'"], [13, "' b=2'"], [12, "' b=2'"]];
    let frame;
    for (const [line, r] of want) {
      frame = await stepAndStop(dc, () => dc.stepBackRequest({ threadId: 1 }), 'step');
      assert.equal(frame.line, line);
      assert.equal((await locals(dc, frame.id)).r.value, r);
    }
    // back to the present, then a breakpoint in clean(), which has returned
    for (let i = 0; i < 4; i++) await stepAndStop(dc, () => dc.nextRequest({ threadId: 1 }));
    await dc.setBreakpointsRequest({ source: { path: prog }, breakpoints: [{ line: 5 }] });
    frame = await stepAndStop(dc, () => dc.reverseContinueRequest({ threadId: 1 }), 'breakpoint');
    assert.equal(frame.line, 5);
    const ev = await dc.evaluateRequest({ expression: 'r', frameId: frame.id, context: 'hover' });
    assert.equal(ev.body.result, "'c=x '");
    frame = await stepAndStop(dc, () => dc.reverseContinueRequest({ threadId: 1 }), 'breakpoint');
    assert.equal((await locals(dc, frame.id)).r.value, "' b=2'");
    await dc.setBreakpointsRequest({ source: { path: prog }, breakpoints: [] });
    frame = await stepAndStop(dc, () => dc.continueRequest({ threadId: 1 }), 'exception');
    assert.equal(frame.line, 13);
    const exited = dc.waitForEvent('exited');
    await dc.continueRequest({ threadId: 1 });
    assert.equal((await exited).body.exitCode, 1);
  });
});

function copyFixtures(...names) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pyreplay-vscode-'));
  for (const n of names) fs.copyFileSync(path.join(root, 'fixtures', 'dap', n), path.join(dir, n));
  return dir;
}

async function launchWith(dc, args, bps, init = {}) {
  const initialized = dc.waitForEvent('initialized');
  await dc.initializeRequest({ adapterID: 'pyreplay', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path', ...init });
  await dc.launchRequest(args);
  await initialized;
  for (const [file, lines] of Object.entries(bps)) {
    await dc.setBreakpointsRequest({ source: { path: file }, breakpoints: lines.map((l) => (typeof l === 'number' ? { line: l } : l)) });
  }
  await dc.setExceptionBreakpointsRequest({ filters: [] });
  await dc.configurationDoneRequest();
}

test('two threads at one breakpoint: a stop each, named, the other thread held', async () => {
  const dir = copyFixtures('two_workers.py');
  const prog = path.join(dir, 'two_workers.py');
  await withClient(async (dc) => {
    const first = dc.waitForEvent('stopped');
    await launchWith(dc, { program: prog, python: PYTHON, db: path.join(dir, 'rec.db'), cwd: dir }, { [prog]: [{ line: 8, condition: 'i == 1' }] });
    const seen = new Set();
    let ev = await first;
    for (let k = 0; k < 2; k++) {
      // every thread stopped (3.9+), the stopped one named and listed first
      assert.equal(ev.body.allThreadsStopped, true);
      const ths = (await dc.threadsRequest()).body.threads;
      assert.equal(ths[0].id, ev.body.threadId);
      assert.ok(ths.some((t) => t.name === 'MainThread' && t.id === 1));
      const st = await dc.stackTraceRequest({ threadId: ev.body.threadId });
      const vars = await locals(dc, st.body.stackFrames[0].id);
      assert.equal(st.body.stackFrames[0].line, 8);
      assert.equal(vars.i.value, '1');
      assert.equal(ths[0].name, 'worker-' + vars.tag.value.replace(/'/g, ''));
      seen.add(ths[0].name);
      const next = dc.waitForEvent(k === 0 ? 'stopped' : 'exited');
      await dc.continueRequest({ threadId: ev.body.threadId });
      ev = await next;
    }
    assert.deepEqual([...seen].sort(), ['worker-a', 'worker-b']);
    assert.equal(ev.body.exitCode, 0);
  });
});

test('asyncio: next over an await stays in the coroutine, asyncio hidden, tasks named', async () => {
  const dir = copyFixtures('aio.py');
  const prog = path.join(dir, 'aio.py');
  await withClient(async (dc) => {
    const stopped = dc.waitForEvent('stopped');
    await launchWith(dc, { program: prog, python: PYTHON, db: path.join(dir, 'rec.db'), cwd: dir }, { [prog]: [14] });
    await stopped;
    const st = await dc.stackTraceRequest({ threadId: 1 });
    assert.deepEqual(st.body.stackFrames.map((f) => f.name), ['worker  (task Task-1)', 'main  (task Task-1)', '<module>']);
    const lines = [];
    for (let i = 0; i < 5; i++) lines.push((await stepAndStop(dc, () => dc.nextRequest({ threadId: 1 }))).line);
    assert.deepEqual(lines, [15, 13, 14, 15, 13]);
    await dc.setBreakpointsRequest({ source: { path: prog }, breakpoints: [] });
    const exited = dc.waitForEvent('exited');
    await dc.continueRequest({ threadId: 1 });
    assert.equal((await exited).body.exitCode, 0);
  });
});

test('a child process: a child session through startDebugging, stopped at its breakpoint', async () => {
  const dir = copyFixtures('spawner.py', 'spawned.py');
  const prog = path.join(dir, 'spawner.py');
  const child = path.join(dir, 'spawned.py');
  await withClient(async (dc) => {
    // the reverse request: DebugClient passes only events and responses on
    const asked = new Promise((resolve) => {
      const dispatch = dc.dispatch.bind(dc);
      dc.dispatch = (body) => {
        const m = JSON.parse(body);
        if (m.type !== 'request') return dispatch(body);
        const json = JSON.stringify({ seq: 0, type: 'response', request_seq: m.seq, success: true, command: m.command });
        dc.outputStream.write(`Content-Length: ${Buffer.byteLength(json, 'utf8')}\r\n\r\n${json}`, 'utf8');
        resolve(m);
      };
    });
    const parentExited = dc.waitForEvent('exited');
    await launchWith(dc, { program: prog, python: PYTHON, db: path.join(dir, 'rec.db'), cwd: dir }, {}, { supportsStartDebuggingRequest: true });
    const req = await asked;
    assert.equal(req.command, 'startDebugging');
    assert.equal(req.arguments.request, 'attach');
    await withClient(async (kc) => {
      const stopped = kc.waitForEvent('stopped');
      const initialized = kc.waitForEvent('initialized');
      await kc.initializeRequest();
      await kc.attachRequest(req.arguments.configuration);
      await initialized;
      await kc.setBreakpointsRequest({ source: { path: child }, breakpoints: [{ line: 7 }] });
      await kc.configurationDoneRequest();
      assert.equal((await stopped).body.reason, 'breakpoint');
      const frame = await topFrame(kc);
      assert.equal(frame.line, 7);
      assert.equal(frame.source.path, child);
      const vars = await locals(kc, frame.id);
      assert.equal(vars.word.value, "'naïve'");
      assert.equal(vars.i.value, '0');
      await kc.setBreakpointsRequest({ source: { path: child }, breakpoints: [] });
      const exited = kc.waitForEvent('exited');
      await kc.continueRequest({ threadId: 1 });
      assert.equal((await exited).body.exitCode, 4);
    });
    assert.equal((await parentExited).body.exitCode, 0);
  });
});
