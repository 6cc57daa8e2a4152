// The package ships no types; the reference parser wrapper (./prometheus-reference-parser.ts) gives it its shape.
declare module 'parse-prometheus-text-format' {
  const parsePrometheusTextFormat: (text: string) => unknown;
  export default parsePrometheusTextFormat;
}
