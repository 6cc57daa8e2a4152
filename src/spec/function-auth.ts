/**
 * A function's own API keys (`defineFunction({ auth })`). Its keys replace the server's for that function, so
 * a key given to one client opens one function only. `false` opens the function even when the server has keys.
 */
export type FunctionAuth =
  | false
  | {
      /** Environment variable (on Workers: a secret or var binding) holding the keys, separated by commas or newlines. */
      keysEnv?: string;
      /** Node only: a file holding the keys, one per line; relative to the project root. */
      keysFile?: string;
    };
