import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTemplate, TemplateError } from './gotemplate.js';

const run = (src: string, data: unknown) => compileTemplate(src).execute(data);

const inspect = {
  Id: 'abc123',
  Name: '/web',
  State: { Running: true, Pid: 42, ExitCode: 0 },
  Config: { Labels: { app: 'shop', tier: 'web' }, Env: ['A=1', 'B=2'], Cmd: ['sh', '-c', 'x'] },
  Mounts: [{ Source: '/data', Destination: '/d' }, { Source: '/logs', Destination: '/l' }],
  NetworkSettings: { IPAddress: '172.17.0.2', Ports: {} },
};

test('fields, nested fields and maps', () => {
  assert.equal(run('{{.Id}}', inspect), 'abc123');
  assert.equal(run('{{.State.Running}} {{.State.Pid}}', inspect), 'true 42');
  assert.equal(run('{{.NetworkSettings.IPAddress}}', inspect), '172.17.0.2');
  assert.equal(run('{{.Nope}}', inspect), '<no value>');
  assert.equal(run('{{.Config.Labels}}', inspect), 'map[app:shop tier:web]');
  assert.equal(run('{{.Config.Env}}', inspect), '[A=1 B=2]');
});

test('json, index, range, if/else, with, variables', () => {
  assert.equal(run('{{json .Config.Labels}}', inspect), '{"app":"shop","tier":"web"}');
  assert.equal(run('{{json .}}', { a: [1, 'x'] }), '{"a":[1,"x"]}');
  assert.equal(run('{{index .Config.Labels "app"}}', inspect), 'shop');
  assert.equal(run('{{index .Config.Labels "missing"}}', inspect), '');
  assert.equal(run('{{index .Config.Cmd 2}}', inspect), 'x');
  assert.equal(run('{{range .Mounts}}{{.Source}}:{{.Destination}} {{end}}', inspect), '/data:/d /logs:/l ');
  assert.equal(run('{{range $i, $m := .Mounts}}{{$i}}={{$m.Source}};{{end}}', inspect), '0=/data;1=/logs;');
  assert.equal(run('{{range $k, $v := .Config.Labels}}{{$k}}-{{$v}},{{end}}', inspect), 'app-shop,tier-web,');
  assert.equal(run('{{range .Nothing}}x{{else}}empty{{end}}', inspect), 'empty');
  assert.equal(run('{{if .State.Running}}up{{else}}down{{end}}', inspect), 'up');
  assert.equal(run('{{if not .State.Running}}up{{else if .State.Pid}}pid{{else}}down{{end}}', inspect), 'pid');
  assert.equal(run('{{with .State}}{{.Pid}}{{end}}{{with .Nope}}x{{else}}none{{end}}', inspect), '42none');
  assert.equal(run('{{$n := .Name}}{{range .Mounts}}{{$n}}{{end}}', inspect), '/web/web');
  assert.equal(run('{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}', {}), '2');
  assert.equal(run('{{(index .Mounts 1).Source}}', inspect), '/logs');
  assert.equal(run('{{$.Id}}{{range .Mounts}}{{$.Name}}{{end}}', inspect), 'abc123/web/web');
});

test('functions and pipelines', () => {
  assert.equal(run('{{upper .Name}} {{lower "AbC"}} {{title "hello world"}}', inspect), '/WEB abc Hello World');
  assert.equal(run('{{join .Config.Env ","}}', inspect), 'A=1,B=2');
  assert.equal(run('{{split "a:b:c" ":"}}', {}), '[a b c]');
  assert.equal(run('{{len .Mounts}} {{len .Config.Labels}} {{len "abc"}}', inspect), '2 2 3');
  assert.equal(run('{{printf "%s has pid %d" .Name .State.Pid}}', inspect), '/web has pid 42');
  assert.equal(run('{{printf "%-6s|%5d|%q|%v|%t" "ab" 42 "q" .Config.Env true}}', inspect), 'ab    |   42|"q"|[A=1 B=2]|true');
  assert.equal(run('{{printf "%d"}}', {}), '%!d(MISSING)');
  assert.equal(run('{{println "a" 1}}', {}), 'a 1\n');
  assert.equal(run('{{.Name | upper | printf "<%s>"}}', inspect), '</WEB>');
  assert.equal(run('{{eq .State.Pid 42}} {{ne .Name "/web"}} {{lt 1 2}} {{gt 1 2}} {{le 2 2}} {{ge 1 2}}', inspect), 'true false true false true false');
  assert.equal(run('{{eq .Name "/x" "/web"}}', inspect), 'true');
  assert.equal(run('{{and .State.Running .Name}} {{or "" "fallback"}} {{not 0}}', inspect), '/web fallback true');
  assert.equal(run('{{if and .State.Running (eq .State.ExitCode 0)}}ok{{end}}', inspect), 'ok');
});

test('trim markers and comments', () => {
  assert.equal(run('a  {{- .Id -}}  b', inspect), 'aabc123b');
  assert.equal(run('{{/* a comment */}}x', {}), 'x');
  assert.equal(run('{{range .Mounts}}\n  {{- .Source}}\n{{- end}}', inspect), '/data/logs');
});

test('struct-like objects: methods with arguments, missing fields are errors', () => {
  class Row {
    get ID() { return 'c1'; }
    Label(k: string) { return k === 'app' ? 'shop' : ''; }
  }
  assert.equal(run('{{.ID}} {{.Label "app"}}', new Row()), 'c1 shop');
  assert.throws(() => run('{{.Nope}}', new Row()), (e: Error) => e instanceof TemplateError && e.message === 'template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *Row');
});

test('parse errors read like Go', () => {
  const err = (src: string) => { try { compileTemplate(src); return ''; } catch (e) { return (e as Error).message; } };
  assert.equal(err('{{x}}'), 'template: :1: function "x" not defined');
  assert.equal(err('a\n{{nosuch .A}}'), 'template: :2: function "nosuch" not defined');
  assert.equal(err('{{.ID'), 'template: :1: unclosed action');
  assert.equal(err('{{if .A}}x'), 'template: :1: unexpected EOF');
  assert.equal(err('{{end}}'), 'template: :1: unexpected {{end}}');
});

test('execution errors name the position and the command', () => {
  assert.throws(() => run('{{index .Config.Cmd 9}}', inspect), /template: :1:2: executing "" at <index .Config.Cmd 9>: error calling index: index out of range: 9/);
  assert.throws(() => run('{{.Id.Foo}}', inspect), /can't evaluate field Foo in type string/);
});
