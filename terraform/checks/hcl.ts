// @cdktf/hcl2json, loaded without its typings: they carry `/// <reference lib="dom" />`, which would swap Node's
// global types (fetch, BufferSource, …) for the DOM's in the whole program. The two functions used are declared here.
interface Hcl2Json {
  parse(filename: string, text: string): Promise<unknown>;
  getReferencesInExpression(filename: string, expression: string): Promise<{ value: string }[]>;
}

const specifier: string = "@cdktf/hcl2json";
const hcl = (await import(specifier)) as Hcl2Json;

export const parse = hcl.parse;
export const getReferencesInExpression = hcl.getReferencesInExpression;
