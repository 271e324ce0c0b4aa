import { defineCommand } from '../command.js';

export default defineCommand({
  name: 'run',
  summary: 'not built yet',
  usage: 'sprout run',
  options: {},
});
