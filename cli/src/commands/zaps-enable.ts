import { zapStateCommand } from '../zap-state.ts'

export const zapsEnableCommand = () => zapStateCommand(true)
