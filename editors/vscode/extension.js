// pyreplay for VS Code: the `pyreplay` debug type (runs `pyreplay dap`) and
// the "Resume from Here" command. Plain JavaScript, no build step.
'use strict';
const vscode = require('vscode');
const fs = require('fs');
const path = require('path');

/** The pyreplay binary: the pyreplay.path setting, else pyreplay on PATH. */
function findBinary() {
  const configured = vscode.workspace.getConfiguration('pyreplay').get('path');
  if (configured) return configured;
  const exe = process.platform === 'win32' ? 'pyreplay.exe' : 'pyreplay';
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, exe);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch (_) { /* next */ }
  }
  return null;
}

class AdapterFactory {
  createDebugAdapterDescriptor(_session) {
    const bin = findBinary();
    if (!bin) {
      throw new Error('pyreplay was not found: install it (make build; cp bin/pyreplay ~/.local/bin/) or set "pyreplay.path"');
    }
    return new vscode.DebugAdapterExecutable(bin, ['dap']);
  }
}

class ConfigurationProvider {
  // F5 without a launch.json: record and debug the current Python file
  resolveDebugConfiguration(_folder, config) {
    if (!config.type && !config.request && !config.name) {
      const editor = vscode.window.activeTextEditor;
      if (editor && editor.document.languageId === 'python') {
        config.type = 'pyreplay';
        config.name = 'pyreplay: record and debug the current file';
        config.request = 'launch';
        config.program = '${file}';
        config.cwd = '${fileDirname}';
      }
    }
    if (!config.program && !config.module && !config.recording) {
      return vscode.window.showInformationMessage('pyreplay: set "program", "module" or "recording" in the launch configuration')
        .then(() => undefined);
    }
    return config;
  }
}

async function resumeFromHere() {
  const session = vscode.debug.activeDebugSession;
  if (!session || session.type !== 'pyreplay') {
    vscode.window.showWarningMessage('pyreplay: Resume from Here needs a pyreplay debug session stopped somewhere');
    return;
  }
  try {
    const body = await session.customRequest('pyreplayResume', {});
    vscode.window.setStatusBarMessage(`pyreplay: resumed ${body.snapshot} in a fresh process (run ${body.run})`, 5000);
  } catch (e) {
    vscode.window.showErrorMessage(`pyreplay: ${e.message || e}`);
  }
}

function activate(context) {
  context.subscriptions.push(
    vscode.debug.registerDebugAdapterDescriptorFactory('pyreplay', new AdapterFactory()),
    vscode.debug.registerDebugConfigurationProvider('pyreplay', new ConfigurationProvider()),
    vscode.commands.registerCommand('pyreplay.resumeFromHere', resumeFromHere),
  );
}

function deactivate() {}

module.exports = { activate, deactivate };
