// SPDX-License-Identifier: GPL-2.0
//
// mapper.c - an interface of muxer/demuxer between buffer with data frames and
// 	      formatted files.
//
// Copyright (c) 2018 Takashi Sakamoto <o-takashi@sakamocchi.jp>
//
// Licensed under the terms of the GNU General Public License, version 2.

#include "mapper.h"
#include "misc.h"

#include <stdio.h>

static const char *const mapper_type_labels[] = {
	[MAPPER_TYPE_MUXER] = "muxer",
	[MAPPER_TYPE_DEMUXER] = "demuxer",
};

static const char *const mapper_target_labels[] = {
	[MAPPER_TARGET_SINGLE] = "single",
	[MAPPER_TARGET_MULTIPLE] = "multiple",
};

int mapper_context_init(struct mapper_context *mapper,
			enum mapper_type type, unsigned int cntr_count,
			unsigned int verbose)
{
	const struct mapper_data *data = NULL;

	assert(mapper);
	assert(cntr_count > 0);

	// Detect forgotten to destruct.
	assert(mapper->private_data == NULL);

	memset(mapper, 0, sizeof(*mapper));

	if (type == MAPPER_TYPE_MUXER) {
		if (cntr_count == 1) {
			data = &mapper_muxer_single;
			mapper->target = MAPPER_TARGET_SINGLE;
		} else {
			data = &mapper_muxer_multiple;
			mapper->target = MAPPER_TARGET_MULTIPLE;
		}
	} else {
		if (cntr_count == 1) {
			data = &mapper_demuxer_single;
			mapper->target = MAPPER_TARGET_SINGLE;
		} else {
			data = &mapper_demuxer_multiple;
			mapper->target = MAPPER_TARGET_MULTIPLE;
		}
	}

	mapper->ops = &data->ops;
	mapper->type = type;

	mapper->private_data = malloc(data->private_size);
