/**
 * Build arguments as the legacy builder scopes them: `--build-arg` values,
 * global ARGs (before the first FROM, visible only to FROM lines unless a
 * stage re-declares them), per-stage ARGs, and the predefined proxy args that
 * work without a declaration but stay out of history and the cache.
 *
 *   const args = new BuildArgs({ V: '2', UNUSED: 'x' });
 *   args.declareMeta('V', '1');          // global ARG V=1 → '2' (option wins)
 *   const st = args.forStage();
 *   st.declare('V', undefined);          // ARG V → inherits the global value
 *   st.visible()                          // Map { V → '2' }
 *   args.unconsumed()                     // ['UNUSED']
 */

/** Docker's predefined ARGs: usable without `ARG`, kept out of history. */
export const PROXY_ARGS = new Set([
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy',
  'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
]);

export class BuildArgs {
  private readonly options: Map<string, string | null>;
  private readonly meta = new Map<string, string | undefined>();
  private readonly consumed = new Set<string>();

  private readonly automatic: Map<string, string>;

  /**
   * `options` as the API sends `buildargs`: a null value means "no value given".
   * `automatic`: values that exist without an option, as BuildKit's platform
   * ARGs do: FROM lines see them, a stage sees one once it declares it.
   */
  constructor(options: Record<string, string | null> = {}, automatic: Record<string, string> = {}) {
    this.options = new Map(Object.entries(options));
    this.automatic = new Map(Object.entries(automatic));
  }

  /** The automatic value of `key`, if it has one. */
  auto(key: string): string | undefined {
    return this.automatic.get(key);
  }

  /** The value an option gives `key`, if any. */
  option(key: string): string | undefined {
    const v = this.options.get(key);
    return v === null ? undefined : v;
  }

  /** Records a global ARG; `value` is its already-expanded default. */
  declareMeta(key: string, value: string | undefined): void {
    this.consumed.add(key);
    this.meta.set(key, this.option(key) ?? value);
  }

  /** Variables FROM lines and global ARG defaults expand with. */
  metaEnv(): Map<string, string> {
    const m = new Map<string, string>(this.automatic);
    for (const k of PROXY_ARGS) {
      const v = this.option(k);
      if (v !== undefined) m.set(k, v);
    }
    for (const [k, v] of this.meta) if (v !== undefined) m.set(k, v);
    return m;
  }

  forStage(): StageArgs {
    return new StageArgs(this, this.meta, this.consumed);
  }

  /** `--build-arg` names no ARG declared, sorted (proxy args never count). */
  unconsumed(): string[] {
    return [...this.options.keys()].filter((k) => !this.consumed.has(k) && !PROXY_ARGS.has(k)).sort();
  }
}

/** The ARGs one stage has declared so far. */
export class StageArgs {
  private readonly declared = new Map<string, string | undefined>();
  constructor(private readonly all: BuildArgs, private readonly meta: Map<string, string | undefined>, private readonly consumed: Set<string>) {}

  /** `ARG key[=value]`, value already expanded. Option beats default beats the global value. */
  declare(key: string, value: string | undefined): void {
    this.consumed.add(key);
    this.declared.set(key, this.all.option(key) ?? value ?? this.meta.get(key) ?? this.all.auto(key));
  }

  /** Every arg with a value this stage can see, proxies included. */
  visible(): Map<string, string> {
    const m = new Map<string, string>();
    for (const k of PROXY_ARGS) {
      if (this.declared.has(k)) continue;
      const v = this.all.option(k);
      if (v !== undefined) m.set(k, v);
    }
    for (const [k, v] of this.declared) if (v !== undefined) m.set(k, v);
    return m;
  }

  /** Whether an arg belongs in history/cache text: declared ones and non-proxy ones. */
  recorded(key: string): boolean {
    return this.declared.has(key) || !PROXY_ARGS.has(key);
  }
}

/** The line the legacy builder prints when some `--build-arg` went unused. */
export function unusedArgsWarning(names: string[]): string | undefined {
  if (names.length === 0) return undefined;
  return `[Warning] One or more build-args [${names.join(' ')}] were not consumed`;
}
