// Types shared by the extension host and the graph webview: the `fledge/graph` request of the
// fledge language server, and the messages between the extension and the webview.
// Plain JSON types only (the webview has no `vscode` module).

export interface LspPosition {
  line: number;
  character: number;
}

export interface LspRange {
  start: LspPosition;
  end: LspPosition;
}

/** Params of the custom request `fledge/graph`. */
export interface GraphParams {
  textDocument: { uri: string };
  /** The workflow around this position (when `workflow` is not given). */
  position?: LspPosition;
  /** A workflow's name in the document. */
  workflow?: string;
}

export type NodeKind =
  | 'start'
  | 'end'
  | 'task'
  | 'workflow'
  | 'launch_plan'
  | 'map_task'
  | 'branch'
  | string;

export interface GraphNode {
  id: string;
  label: string;
  kind: NodeKind;
  /** Where the node is created (the call), in the graph's document. */
  range?: LspRange;
  /** The definition of what the node runs (task, sub-workflow, launch plan). */
  targetUri?: string | null;
  targetRange?: LspRange | null;
}

export interface GraphEdge {
  from: string;
  to: string;
  label?: string | null;
  flyteType?: string | null;
  pythonType?: string | null;
}

/** Result of `fledge/graph` (or null: no workflow there). */
export interface GraphResult {
  workflow: string;
  uri: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export const GRAPH_REQUEST = 'fledge/graph';

/** Extension -> webview. */
export type ToWebview =
  | { type: 'graph'; graph: GraphResult; fileLabel: string; refit: boolean }
  | { type: 'message'; text: string; level: 'info' | 'error'; keepGraph: boolean }
  | { type: 'busy'; busy: boolean };

/** Webview -> extension. */
export type FromWebview =
  | { type: 'ready' }
  | { type: 'open'; nodeId: string; definition: boolean }
  | { type: 'refresh' }
  | { type: 'rendered'; nodes: number; edges: number };
