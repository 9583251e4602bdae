/**
 * Heredocs (`RUN <<EOF`, `COPY <<-"conf" /etc/x`) as BuildKit recognises them
 * in a line: a word of the form `[fd]<<[-]NAME`, where a quoted NAME turns
 * off expansion of the body and `-` strips leading tabs.
 *
 *   parseHeredocWord('<<-"END"')  // { name: 'END', fd: 0, expand: false, chomp: true, content: '' }
 */
import { ShellLex, envOf, ExpandError } from './expand.js';
import type { Heredoc, Node } from './parser.js';

const reHeredoc = /^(\d*)<<(-?)\s*([^<]*)$/;

/** RUN, COPY and ADD in shell form may carry heredocs (also as ONBUILD triggers). */
export function heredocCapable(node: Node): boolean {
  return ['add', 'copy', 'run'].includes(node.cmd.toLowerCase()) && !node.json;
}

/** Recognises a `<<EOF`-style word; undefined when the word is not a heredoc. */
export function parseHeredocWord(word: string): Heredoc | undefined {
  const m = reHeredoc.exec(word);
  if (!m || m[3].length === 0) return undefined;
  const lex = new ShellLex({ skipUnsetEnv: true });
  const words = lex.processWords(m[3], envOf({}));
  if (words.length !== 1) return undefined;
  const raw = new ShellLex({ skipUnsetEnv: true, rawQuotes: true }).processWords(m[3], envOf({}));
  const quotes = (s: string) => (s.match(/['"]/g) ?? []).length;
  return { name: words[0], fd: m[1] ? Number(m[1]) : 0, expand: quotes(words[0]) === quotes(raw[0]), chomp: m[2] === '-', content: '' };
}

/** Every heredoc word on an instruction line, in order. */
export function heredocsFromLine(line: string): Heredoc[] {
  let words: string[];
  try {
    words = new ShellLex({ rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).processWords(line, envOf({}));
  } catch (e) {
    if (e instanceof ExpandError) return [];
    throw e;
  }
  return words.map(parseHeredocWord).filter((h): h is Heredoc => h !== undefined);
}

/** `<<-` bodies lose leading tabs on every line. */
export function chompHeredoc(content: string): string {
  return content.replace(/^\t+/gm, '');
}

