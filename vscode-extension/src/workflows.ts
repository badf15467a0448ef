// A light scan of a Python file for `@workflow` functions: used to tell which workflow the cursor
// is in (to follow it in the graph view without asking the server on every cursor move) and to
// pick a workflow for `fledge run`/`fledge watch` when the server is not there.
// No `vscode` import, so it can be unit-tested.

export interface WorkflowDef {
  name: string;
  /** 0-based line of the first decorator. */
  startLine: number;
  /** 0-based line of `def`. */
  defLine: number;
  /** 0-based last line of the body (inclusive). */
  endLine: number;
}

const DECORATOR = /^(\s*)@\s*(?:[A-Za-z_][\w]*\.)*workflow\b/;
const ANY_DECORATOR = /^\s*@/;
const DEF = /^(\s*)(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(/;

function indentOf(line: string): number {
  const m = /^[ \t]*/.exec(line);
  return m ? m[0].replace(/\t/g, '        ').length : 0;
}

function isBlankOrComment(line: string): boolean {
  const t = line.trim();
  return t === '' || t.startsWith('#');
}

/** Net bracket depth change of a line, ignoring strings and comments (roughly). */
function bracketDelta(line: string): number {
  let d = 0;
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '#') break;
    if (c === '"' || c === "'") quote = c;
    else if (c === '(' || c === '[' || c === '{') d++;
    else if (c === ')' || c === ']' || c === '}') d--;
  }
  return d;
}

export function findWorkflows(text: string): WorkflowDef[] {
  const lines = text.split(/\r?\n/);
  const out: WorkflowDef[] = [];
  for (let i = 0; i < lines.length; i++) {
    const dm = DECORATOR.exec(lines[i]);
    if (!dm) continue;
    const decIndent = indentOf(lines[i]);
    // the decorator block: skip decorator lines (and their continuation) until `def`
    let j = i;
    let depth = 0;
    let defLine = -1;
    let name = '';
    for (; j < lines.length; j++) {
      if (depth === 0) {
        const m = DEF.exec(lines[j]);
        if (m && indentOf(lines[j]) === decIndent) {
          defLine = j;
          name = m[2];
          break;
        }
        if (!ANY_DECORATOR.test(lines[j]) && !isBlankOrComment(lines[j]) && j !== i) break;
      }
      depth += bracketDelta(lines[j]);
      if (depth < 0) depth = 0;
    }
    if (defLine < 0) continue;
    // the signature may span lines: it ends where the brackets close
    let k = defLine;
    depth = 0;
    for (; k < lines.length; k++) {
      depth += bracketDelta(lines[k]);
      if (depth <= 0) break;
    }
    let end = k;
    for (let b = k + 1; b < lines.length; b++) {
      if (isBlankOrComment(lines[b])) continue;
      if (indentOf(lines[b]) <= decIndent) break;
      end = b;
    }
    out.push({ name, startLine: i, defLine, endLine: end });
    i = defLine;
  }
  return out;
}

/** The innermost workflow whose decorators..body contain LINE. */
export function workflowAt(defs: WorkflowDef[], line: number): WorkflowDef | undefined {
  let best: WorkflowDef | undefined;
  for (const d of defs) {
    if (line >= d.startLine && line <= d.endLine && (!best || d.startLine >= best.startLine)) best = d;
  }
  return best;
}

/** `shop.pipeline.shop_report` -> `shop_report`. */
export function shortName(workflow: string): string {
  const i = workflow.lastIndexOf('.');
  return i >= 0 ? workflow.slice(i + 1) : workflow;
}
