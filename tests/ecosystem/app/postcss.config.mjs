// Tailwind CSS v4 through PostCSS (its own guide), run by Fymo on templates/**/*.css.
export default { plugins: { "@tailwindcss/postcss": {} } };
