import { defineCommand } from '../command.js';

export default defineCommand({
  name: 'dev',
  summary: 'not built yet',
  usage: 'sprout dev',
  options: {},
});
