// The `stopword` package ships no type declarations; Quiver reads only its English and Chinese lists.
declare module 'stopword' {
  export const eng: string[];
  export const zho: string[];
}
